"""The ``qzfp`` command.

The command only parses arguments and calls library functions (papermill's
``cli.py`` is the model).  Bad input is reported as one line per problem
(``file:row-or-key: message``) with exit status 1; a failed run exits with 2;
no traceback reaches the user.

Exit codes
----------
0  all good
1  bad input (nothing was run)
2  a run failed (previous reports are kept)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__, typed
from .errors import Problem, QzfpError, RunError, shown

EXIT_OK, EXIT_BAD_INPUT, EXIT_RUN_FAILED = 0, 1, 2


def _print_problems(problems: Sequence[Problem], lang: str = "en") -> None:
    """One line per problem, ``location: message``, the message in ``lang`` (at most
    :data:`~qzfp.errors.MAX_PROBLEMS_SHOWN` of a file, then one line counting the rest)."""
    for p in shown(problems):
        print(p.line(lang), file=sys.stderr)


def _chosen_lang(args: argparse.Namespace) -> str | None:
    """The language the user chose: the command's ``--lang``, else ``--lang`` before the
    command, else the ``QZFP_LANG`` environment variable; None when none is given."""
    for value in (getattr(args, "lang", None), getattr(args, "global_lang", None), os.environ.get("QZFP_LANG")):
        if value in ("en", "zh"):
            return value
    return None


def _lang(args: argparse.Namespace) -> str:
    """Language of messages: :func:`_chosen_lang`, else English."""
    return _chosen_lang(args) or "en"


def _report_lang(args: argparse.Namespace) -> str | None:
    """Language of what a command writes (reports, pages, workbooks, the proposal):
    :func:`_chosen_lang`, else None (each scenario's own ``lang``)."""
    return _chosen_lang(args)


def _parse_set(items: Sequence[str]) -> dict[str, list[float]]:
    """Parse ``--set PATH=v1,v2,...`` options into a grid."""
    grid: dict[str, list[float]] = {}
    problems = []
    for item in map(typed.normalise, items):  # full-width digits and signs as typed
        path, sep, raw = item.partition("=")
        if not sep or not path or not raw:
            problems.append(Problem(f"--set {item}", "cli.set_syntax"))
            continue
        values = []
        for tok in raw.split(","):
            tok = tok.strip()
            try:
                values.append(typed.number(tok, f"--set {path}"))
            except QzfpError as exc:
                problems.extend(exc.problems)
        if path in grid:
            problems.append(Problem(f"--set {path}", "cli.given_twice"))
        grid[path] = values
    if problems:
        raise QzfpError(problems)
    return grid


def cmd_explain(args: argparse.Namespace) -> int:
    from .rules.rulebook import load_rulebook

    rulebook = load_rulebook()
    lang = _lang(args)
    print(rulebook.explain(args.path, lang) if args.path else rulebook.tree(lang))
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from .i18n import t
    from .model.run import validate_scenario
    from .register import validate_register_file
    from .register.census import looks_like_census, validate_census_file

    problems: list[Problem] = []
    for f in args.files:
        path = Path(f)
        if path.suffix.lower() in (".yaml", ".yml"):
            problems += validate_scenario(path)
        elif path.suffix.lower() == ".csv" and looks_like_census(path):
            found, notes = validate_census_file(path)
            problems += found
            for note in notes:  # kept as published: said, not refused
                print(t("cli.note", _lang(args), note=note.line(_lang(args))))
        else:
            problems += validate_register_file(path)
    if problems:
        _print_problems(problems, _lang(args))
        return EXIT_BAD_INPUT
    print(t("cli.files_valid", _lang(args), n=len(args.files)))
    return EXIT_OK


def cmd_summary(args: argparse.Namespace) -> int:
    from .reporting.run import print_summary

    print_summary(args.params, lang=_report_lang(args))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from .reporting.run import run_reports

    return run_reports(
        args.params,
        out=args.out,
        lang=_report_lang(args),
        jobs=args.jobs,
        executor=args.executor,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )


def cmd_compare(args: argparse.Namespace) -> int:
    from .reporting.run import compare_reports

    return compare_reports(args.params, out=args.out, lang=_report_lang(args), name=args.name)


def cmd_sweep(args: argparse.Namespace) -> int:
    from .reporting.run import sweep_report

    grid = _parse_set(args.set)
    return sweep_report(args.base, grid, out=args.out, lang=_report_lang(args), name=args.name,
                        executor=args.executor, scheduler=args.scheduler, progress=not args.quiet)


def cmd_plan(args: argparse.Namespace) -> int:
    from .model.plan import parse_vary
    from .reporting.run import plan_report

    return plan_report(args.params, parse_vary(args.vary), year=args.year, ceiling=args.ceiling,
                       objective=args.objective, out=args.out, lang=_report_lang(args), name=args.name,
                       progress=not args.quiet)


def cmd_proposal(args: argparse.Namespace) -> int:
    from .i18n import t
    from .reporting.proposal import write_proposal

    head = {k: getattr(args, k) for k in ("issuer", "code", "number", "signer", "addressee", "date")
            if getattr(args, k) is not None}
    lang = _lang(args)
    written = write_proposal(args.params, args.year, lang=_report_lang(args), out=args.out, head=head)
    print(t("prop.written", lang, docx=str(written["docx"]), pdf=str(written["pdf"])))
    if written["placeholders"]:
        sep = "、" if lang == "zh" else " and "
        print(t("prop.placeholders", lang, fields=sep.join(t(f"prop.placeholder.{f}", lang)
                                                           for f in written["placeholders"]),
                options=sep.join(f"--{f}" for f in written["placeholders"])))
    return EXIT_OK


def cmd_backtest(args: argparse.Namespace) -> int:
    from .reporting.backtest import backtest_report

    return backtest_report(args.base, args.check, codes=args.codes, check_date=args.check_date,
                           base_date=args.base_date, n_paths=args.paths, seed=args.seed, out=args.out,
                           lang=_lang(args))


def cmd_calibrate(args: argparse.Namespace) -> int:
    from .reporting.backtest import calibrate_report

    return calibrate_report(args.base, args.check, codes=args.codes, check_date=args.check_date,
                            base_date=args.base_date, n_paths=args.paths, seed=args.seed, out=args.out,
                            lang=_lang(args))


def cmd_project(args: argparse.Namespace) -> int:
    from .reporting.backtest import project_report

    return project_report(args.census, codes=args.codes, until=args.until, base_date=args.base_date,
                          out=args.out, lang=_lang(args))


def cmd_explore(args: argparse.Namespace) -> int:
    import os

    from .explore.serve import serve

    # the page's language: the command's --lang, else the one before the command, else
    # QZFP_LANG, else the scenario's; a wrong one is refused where it was given
    chosen = [(v, where) for v, where in ((args.lang, "--lang"), (args.global_lang, "--lang"),
                                          (os.environ.get("QZFP_LANG") or None, "QZFP_LANG")) if v is not None]
    lang, where = chosen[0] if chosen else (None, "--lang")
    return serve(args.params, lang=lang, lang_location=where, port=args.port,
                 open_browser=not args.no_browser, message_lang=_lang(args))


def cmd_init(args: argparse.Namespace) -> int:
    from .i18n import t
    from .rules.scenario import packaged_params_dir

    target = Path(args.dir)
    params_src = packaged_params_dir()
    nb_src = Path(__file__).resolve().parent / "notebooks"
    if params_src is None or not nb_src.is_dir():
        raise QzfpError(Problem(str(Path(__file__).parent), "cli.package_incomplete"))
    problems = []
    for sub in ("params", "notebooks"):
        if (target / sub).exists() and not args.force:
            problems.append(Problem(str(target / sub), "cli.already_exists"))
    if problems:
        raise QzfpError(problems)
    target.mkdir(parents=True, exist_ok=True)
    for src, sub, pattern in ((params_src, "params", "*.yaml"), (nb_src, "notebooks", "*.ipynb")):
        dest = target / sub
        dest.mkdir(exist_ok=True)
        for f in sorted(Path(src).glob(pattern)):
            shutil.copyfile(f, dest / f.name)
    (target / "reports").mkdir(exist_ok=True)
    print(t("cli.initialised", _lang(args), path=str(target)))
    return EXIT_OK


#: argparse's own error messages (its gettext message ids, Python 3.10-3.13) as patterns,
#: with the catalogue key of their Chinese text (``argparse.*``).
_ARGPARSE_MESSAGES = (
    (r"argument (?P<arg>.+?): (?P<message>.*)", "argparse.argument"),
    (r"the following arguments are required: (?P<args>.*)", "argparse.required"),
    (r"unrecognized arguments: (?P<args>.*)", "argparse.unrecognized"),
    (r"one of the arguments (?P<args>.*) is required", "argparse.one_of_required"),
    (r"invalid choice: (?P<value>.*?) \(choose from (?P<choices>.*)\)", "argparse.invalid_choice"),
    (r"invalid (?P<type>\w+) value: (?P<value>.*)", "argparse.invalid_value"),
    (r"expected one argument", "argparse.expected_one"),
    (r"expected at most one argument", "argparse.expected_at_most_one"),
    (r"expected at least one argument", "argparse.expected_at_least_one"),
    (r"expected (?P<n>\d+) arguments?", "argparse.expected_n"),
    (r"not allowed with argument (?P<arg>.*)", "argparse.not_allowed_with"),
    (r"ignored explicit argument (?P<value>.*)", "argparse.ignored_explicit"),
    (r"ambiguous option: (?P<option>.*?) could match (?P<matches>.*)", "argparse.ambiguous"),
    (r"unexpected option string: (?P<option>.*)", "argparse.unexpected_option"),
)
_TYPE_NAMES = {"int": "argparse.type_int", "float": "argparse.type_float"}


def translate_argparse(message: str, lang: str) -> str:
    """An argparse error message in ``lang``: argparse writes English (its messages are
    gettext ids without a Chinese catalogue), so in Chinese each known message is matched
    and given its catalogue text; an unknown one stays as argparse wrote it."""
    from .i18n import has, t

    if lang == "en":
        return message
    for pattern, key in _ARGPARSE_MESSAGES:
        m = re.fullmatch(pattern, message.strip(), re.DOTALL)
        if m:
            fields = m.groupdict()
            if "message" in fields:
                fields["message"] = translate_argparse(fields["message"], lang)
            if "type" in fields and fields["type"] in _TYPE_NAMES:
                fields["type"] = t(_TYPE_NAMES[fields["type"]], lang)
            return t(key, lang, **fields) if has(key) else message
    return message


def _argv_lang(argv: Sequence[str]) -> str:
    """The language of messages as far as a command line that argparse may refuse tells:
    ``--lang X`` (or ``--lang=X``) anywhere in it, else ``QZFP_LANG``, else English."""
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--lang=") else (
            argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else None)
        if value in ("en", "zh"):
            return value
    return os.environ.get("QZFP_LANG") if os.environ.get("QZFP_LANG") in ("en", "zh") else "en"


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on a usage error; in qzfp 2 means "a run failed", so a bad
    command line is bad input: exit 1.  The error is in the language of the command line
    (:func:`_argv_lang`, set by :func:`main` as ``message_lang``)."""

    message_lang = "en"

    def error(self, message: str) -> None:  # type: ignore[override]
        from .i18n import t

        lang = _Parser.message_lang
        usage = self.format_usage()
        if lang != "en":
            usage = re.sub(r"^usage: ", t("argparse.usage", lang), usage)
        sys.stderr.write(usage)
        self.exit(EXIT_BAD_INPUT, t("argparse.error", lang, prog=self.prog,
                                    message=translate_argparse(message, lang)) + "\n")


def _letterhead_options(sp: argparse.ArgumentParser) -> None:
    """``qzfp proposal``'s letterhead (GB/T 9704: 发文机关, 发文字号, 签发人, 主送机关, 成文日期)."""
    sp.add_argument("--issuer", default=None, help="issuing body, the red letterhead (default: the city's association)")
    sp.add_argument("--code", default=None, help="the issuer's code in the document number (default: 衢计生协)")
    sp.add_argument("--number", default=None,
                    help="document serial number (12) or whole number (衢计生协〔2013〕12号); default: a ×× placeholder")
    sp.add_argument("--signer", default=None, help="签发人, who signs it (default: a ××× placeholder)")
    sp.add_argument("--addressee", default=None, help="主送机关 (default: 市财政局, the city's finance bureau)")
    sp.add_argument("--date", default=None, metavar="YYYY-MM-DD", help="成文日期 (default: today)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="qzfp",
        description="Population, staffing, workload and budget projections for the Quzhou FPA.",
    )
    p.add_argument("--version", action="version", version=f"qzfp {__version__}")
    p.add_argument("--lang", dest="global_lang", choices=("en", "zh"), default=None,
                   help="language of messages (default: $QZFP_LANG or en)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add_exec(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--executor", choices=("local", "dask"), default="local",
                        help="where to run the work (default: local processes)")
        sp.add_argument("--scheduler", default=None,
                        help="address of a running dask.distributed scheduler (with --executor dask)")

    sp = sub.add_parser("run", help="run every notebook for each scenario and write the reports")
    sp.add_argument("params", nargs="*", help="scenario files (default: params/baseline.yaml, or the packaged baseline)")
    sp.add_argument("--out", default=None, help="output folder (default: the scenario's output_dir, reports/)")
    sp.add_argument("--lang", choices=("en", "zh"), default=None, help="language of the reports (overrides the scenario)")
    sp.add_argument("--jobs", type=int, default=1,
                    help="scenarios whose data files are written at once, each in its own process "
                         "(the notebooks of all scenarios share one pool of max(2, CPUs) kernels)")
    sp.add_argument("--quiet", action="store_true", help="no progress bars")
    add_exec(sp)
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("summary", help="validate a scenario and print its key figures per year")
    sp.add_argument("params", nargs="?", default=None, help="scenario file or name (default: baseline)")
    sp.add_argument("--lang", choices=("en", "zh"), default=None)
    sp.set_defaults(func=cmd_summary)

    sp = sub.add_parser("compare", help="comparison report of several scenarios against the first")
    sp.add_argument("params", nargs="+", help="scenario files; the first is the base")
    sp.add_argument("--out", default="reports", help="output folder (default: reports/)")
    sp.add_argument("--lang", choices=("en", "zh"), default=None)
    sp.add_argument("--name", default=None, help="name of the comparison folder (default: compare-<names>)")
    sp.set_defaults(func=cmd_compare)

    sp = sub.add_parser("sweep", help="grid of total budget and required staff over rules/assumptions")
    sp.add_argument("base", help="base scenario file")
    sp.add_argument("--set", action="append", default=[], metavar="PATH=v1,v2,...", required=True,
                    help="a rulebook path and the values to try (repeat for a grid)")
    sp.add_argument("--out", default="reports", help="output folder (default: reports/)")
    sp.add_argument("--lang", choices=("en", "zh"), default=None)
    sp.add_argument("--name", default=None, help="name of the sweep folder (default: sweep-<base>)")
    sp.add_argument("--quiet", action="store_true", help="no progress bar (with --executor dask)")
    add_exec(sp)
    sp.set_defaults(func=cmd_sweep)

    sp = sub.add_parser("plan", help="the best plan under a budget ceiling: frontier, chosen scenario, changes")
    sp.add_argument("params", help="scenario file the plans change")
    sp.add_argument("--year", required=True, help="budget year Y (a modelled year; 2015 or 2015年)")
    sp.add_argument("--ceiling", required=True, metavar="AMOUNT",
                    help="budget ceiling of year Y: yuan (1200000, 1,200,000, 120万) or a share of the scenario's own "
                         "budget (80%%)")
    sp.add_argument("--vary", action="append", default=[], metavar="PATH=RANGE", required=True,
                    help="a rulebook lever and its values: START:STOP:STEP (60:120:10) or v1,v2,... (repeat for a grid)")
    sp.add_argument("--objective", default=None, choices=("people_covered", "townships_staffed", "posts_filled"),
                    help="coverage to maximise (default people_covered: people living in villages with a "
                         "vice-president); ties go to the lower cost")
    sp.add_argument("--out", default="reports", help="output folder (default: reports/)")
    sp.add_argument("--name", default=None, help="name of the plan folder (default: plan-<scenario>-<year>)")
    sp.add_argument("--lang", choices=("en", "zh"), default=None)
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    sp.set_defaults(func=cmd_plan)
    sp = sub.add_parser("proposal", help="the budget proposal of one year as proposal.docx and proposal.pdf")
    sp.add_argument("params", help="scenario file or name")
    sp.add_argument("--year", required=True, help="budget year (a modelled year of the scenario; 2015 or 2015年)")
    sp.add_argument("--lang", choices=("en", "zh"), default=None, help="language (default: the scenario's)")
    sp.add_argument("--out", default=None,
                    help="output folder (default: <output_dir>/proposal-<scenario>-<year>)")
    _letterhead_options(sp)
    sp.set_defaults(func=cmd_proposal)

    sp = sub.add_parser("explore", help="serve the explorer as a web page (Voila) at http://127.0.0.1:PORT/")
    sp.add_argument("params", nargs="?", default=None,
                    help="scenario file or name (default: params/baseline.yaml, or the packaged baseline)")
    sp.add_argument("--lang", default=None, help="en or zh (default: the scenario's; the page has a list to change it)")
    sp.add_argument("--port", default="8866", help="port on 127.0.0.1 (default 8866; refused when in use)")
    sp.add_argument("--no-browser", action="store_true", help="do not open the page in the web browser")
    sp.set_defaults(func=cmd_explore)

    def add_census(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--codes", default=None, metavar="PREFIX[,PREFIX...]",
                        help="county codes starting with these digits (default: every county-level unit)")
        sp.add_argument("--base-date", default=None, metavar="YYYY-MM-DD",
                        help="census date of the base table (default 2010-11-01)")
        sp.add_argument("--lang", choices=("en", "zh"), default=None)

    sp = sub.add_parser("backtest", help="project every county of a census table to a later census and compare")
    sp.add_argument("base", help="base census table (the layout of qzfp/data/census2010_county_age_sex.csv)")
    sp.add_argument("check", help="later census table (the same layout, or resident counts only)")
    add_census(sp)
    sp.add_argument("--check-date", default=None, metavar="YYYY-MM-DD", help="census date of CHECK (default 2020-11-01)")
    sp.add_argument("--paths", type=int, default=500, help="Monte Carlo paths for p10/p90 (default 500)")
    sp.add_argument("--seed", type=int, default=0, help="seed of the paths (same seed, same file)")
    sp.add_argument("--out", default="backtest", help="output folder of backtest.csv (default: backtest/)")
    sp.set_defaults(func=cmd_backtest)

    sp = sub.add_parser("calibrate-migration",
                        help="fit the resident migration model and the band widths on a later census")
    sp.add_argument("base", help="base census table")
    sp.add_argument("check", help="later census table")
    add_census(sp)
    sp.add_argument("--check-date", default=None, metavar="YYYY-MM-DD", help="census date of CHECK (default 2020-11-01)")
    sp.add_argument("--paths", type=int, default=200, help="Monte Carlo paths of the width calibration (default 200)")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--out", default="calibration", help="output folder (default: calibration/)")
    sp.set_defaults(func=cmd_calibrate)

    sp = sub.add_parser("project", help="project counties of a census table (no register needed)")
    sp.add_argument("census", nargs="?", default=None, help="census table (default: the shipped 2010 census)")
    add_census(sp)
    sp.add_argument("--until", required=True, metavar="YYYY-MM-DD", help="the last date the projection reaches")
    sp.add_argument("--out", default="projection", help="output folder of projection.csv (default: projection/)")
    sp.set_defaults(func=cmd_project)

    sp = sub.add_parser("explain", help="describe a rulebook parameter, or list the rulebook")
    sp.add_argument("path", nargs="?", default=None, help="dotted path, e.g. village.vice_president.allowance")
    sp.set_defaults(func=cmd_explain)

    sp = sub.add_parser("validate", help="check registers (CSV/XLSX) and scenario files (YAML)")
    sp.add_argument("files", nargs="+")
    sp.set_defaults(func=cmd_validate)

    sp = sub.add_parser("init", help="copy the scenario files and notebooks into a working folder")
    sp.add_argument("dir")
    sp.add_argument("--force", action="store_true", help="overwrite existing params/ and notebooks/")
    sp.set_defaults(func=cmd_init)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qzfp`` console script; returns the exit status."""
    parser = build_parser()
    _Parser.message_lang = _argv_lang(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    lang = _lang(args)
    try:
        return int(args.func(args))
    except RunError as e:
        _print_problems(e.problems, lang)
        return EXIT_RUN_FAILED
    except QzfpError as e:
        _print_problems(e.problems, lang)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return EXIT_OK
    except OSError as e:  # unreadable input, unwritable output folder, disk full ...
        import errno

        where = e.filename if e.filename is not None else ""
        full = e.errno in (errno.ENOSPC, errno.EDQUOT)
        reason = e.strerror or str(e)
        _print_problems([Problem(str(where), "cli.disk_full" if full else "cli.os_error", reason=reason)], lang)
        return EXIT_RUN_FAILED if full else EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
