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
    import contextlib

    from .reporting import zygote

    # the report kernels' zygote starts before the report machinery is imported, so that
    # both import at the same time (kernels run only with the local executor)
    with zygote.prestarted() if args.executor == "local" else contextlib.nullcontext():
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
    from .i18n import listing, t
    from .reporting.proposal import write_proposal

    head = {k: getattr(args, k) for k in ("issuer", "code", "number", "signer", "addressee", "date")
            if getattr(args, k) is not None}
    lang = _lang(args)
    written = write_proposal(args.params, args.year, lang=_report_lang(args), out=args.out, head=head)
    print(t("prop.written", lang, docx=str(written["docx"]), pdf=str(written["pdf"])))
    if written["placeholders"]:
        fields = written["placeholders"]
        print(t("prop.placeholders", lang, fields=listing([t(f"prop.placeholder.{f}", lang) for f in fields], lang),
                options=listing([f"--{f}" for f in fields], lang)))
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

    def __init__(self, *args: object, **kwargs: object) -> None:
        """argparse's own headings ("positional arguments", "options") and the help of ``-h``
        in the language of messages, from the catalogue (argparse has no Chinese catalogue)."""
        from .i18n import t

        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        lang = _Parser.message_lang
        self._positionals.title = t("argparse.positionals", lang)
        self._optionals.title = t("argparse.options", lang)
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=t("argparse.help", lang))

    def _translated(self, text: str) -> str:
        from .i18n import t

        lang = _Parser.message_lang
        return text if lang == "en" else re.sub(r"^usage: ", lambda _: t("argparse.usage", lang), text)

    def format_usage(self) -> str:
        return self._translated(super().format_usage())

    def format_help(self) -> str:
        return self._translated(super().format_help())

    def error(self, message: str) -> None:  # type: ignore[override]
        from .i18n import t

        lang = _Parser.message_lang
        usage = self.format_usage()
        sys.stderr.write(usage)
        self.exit(EXIT_BAD_INPUT, t("argparse.error", lang, prog=self.prog,
                                    message=translate_argparse(message, lang)) + "\n")


def _letterhead_options(sp: argparse.ArgumentParser) -> None:
    """``qzfp proposal``'s letterhead (GB/T 9704: 发文机关, 发文字号, 签发人, 主送机关, 成文日期)."""
    for dest in ("issuer", "code", "number", "signer", "addressee"):
        _option(sp, "proposal", f"--{dest}", default=None)
    _option(sp, "proposal", "--date", default=None, metavar="date")


def _option(sp: argparse.ArgumentParser, command: str, *names: str, metavar: str | None = None,
            **kw: object) -> argparse.Action:
    """``sp.add_argument`` with its help (``help.<command>.<dest>``, else ``help.<dest>``) and
    the name of its value (``metavar.<dest>``, or ``metavar.<metavar>``) from the catalogue in
    the language of messages (:attr:`_Parser.message_lang`)."""
    from .i18n import has, t

    lang = _Parser.message_lang
    action = sp.add_argument(*names, **kw)  # type: ignore[arg-type]
    dest = action.dest
    key = f"help.{command}.{dest}" if has(f"help.{command}.{dest}") else f"help.{dest}"
    action.help = t(key, lang)
    if action.nargs != 0 and not action.choices:
        action.metavar = t(f"metavar.{metavar or dest}", lang)
    return action


def _command(sub: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    """The sub-command ``name`` with its help (``help.<name>``) in the language of messages."""
    from .i18n import t

    return sub.add_parser(name, help=t(f"help.{name}", _Parser.message_lang))


def build_parser(lang: str | None = None) -> argparse.ArgumentParser:
    """The ``qzfp`` command line, its help texts and argparse's own headings in ``lang``
    (default: :attr:`_Parser.message_lang`)."""
    from .i18n import t

    if lang is not None:
        _Parser.message_lang = lang
    p = _Parser(prog="qzfp", description=t("help.description", _Parser.message_lang))
    p.add_argument("--version", action="version", version=f"qzfp {__version__}",
                   help=t("help.version", _Parser.message_lang))
    _option(p, "qzfp", "--lang", dest="global_lang", choices=("en", "zh"), default=None)
    sub = p.add_subparsers(dest="command", metavar=t("metavar.command", _Parser.message_lang),
                           parser_class=_Parser)
    sub.required = True

    def add_exec(sp: argparse.ArgumentParser, command: str) -> None:
        _option(sp, command, "--executor", choices=("local", "dask"), default="local")
        _option(sp, command, "--scheduler", default=None)

    sp = _command(sub, "run")
    _option(sp, "run", "params", nargs="*")
    _option(sp, "run", "--out", default=None)
    _option(sp, "run", "--lang", choices=("en", "zh"), default=None)
    _option(sp, "run", "--jobs", type=int, default=1)
    _option(sp, "run", "--quiet", action="store_true")
    add_exec(sp, "run")
    sp.set_defaults(func=cmd_run)

    sp = _command(sub, "summary")
    _option(sp, "summary", "params", nargs="?", default=None)
    _option(sp, "summary", "--lang", choices=("en", "zh"), default=None)
    sp.set_defaults(func=cmd_summary)

    sp = _command(sub, "compare")
    _option(sp, "compare", "params", nargs="+")
    _option(sp, "compare", "--out", default="reports")
    _option(sp, "compare", "--lang", choices=("en", "zh"), default=None)
    _option(sp, "compare", "--name", default=None)
    sp.set_defaults(func=cmd_compare)

    sp = _command(sub, "sweep")
    _option(sp, "sweep", "base")
    _option(sp, "sweep", "--set", action="append", default=[], required=True)
    _option(sp, "sweep", "--out", default="reports")
    _option(sp, "sweep", "--lang", choices=("en", "zh"), default=None)
    _option(sp, "sweep", "--name", default=None)
    _option(sp, "sweep", "--quiet", action="store_true")
    add_exec(sp, "sweep")
    sp.set_defaults(func=cmd_sweep)

    sp = _command(sub, "plan")
    _option(sp, "plan", "params")
    _option(sp, "plan", "--year", required=True)
    _option(sp, "plan", "--ceiling", required=True)
    _option(sp, "plan", "--vary", action="append", default=[], required=True)
    _option(sp, "plan", "--objective", default=None, choices=("people_covered", "townships_staffed", "posts_filled"))
    _option(sp, "plan", "--out", default="reports")
    _option(sp, "plan", "--name", default=None)
    _option(sp, "plan", "--lang", choices=("en", "zh"), default=None)
    _option(sp, "plan", "--quiet", action="store_true")
    sp.set_defaults(func=cmd_plan)

    sp = _command(sub, "proposal")
    _option(sp, "proposal", "params")
    _option(sp, "proposal", "--year", required=True)
    _option(sp, "proposal", "--lang", choices=("en", "zh"), default=None)
    _option(sp, "proposal", "--out", default=None)
    _letterhead_options(sp)
    sp.set_defaults(func=cmd_proposal)

    sp = _command(sub, "explore")
    _option(sp, "explore", "params", nargs="?", default=None)
    _option(sp, "explore", "--lang", default=None)
    _option(sp, "explore", "--port", default="8866")
    _option(sp, "explore", "--no-browser", action="store_true")
    sp.set_defaults(func=cmd_explore)

    def add_census(sp: argparse.ArgumentParser, command: str) -> None:
        _option(sp, command, "--codes", default=None)
        _option(sp, command, "--base-date", default=None, metavar="date")
        _option(sp, command, "--lang", choices=("en", "zh"), default=None)

    for command, paths, out, func in (("backtest", 500, "backtest", cmd_backtest),
                                      ("calibrate-migration", 200, "calibration", cmd_calibrate)):
        sp = _command(sub, command)  # a base census table and a later one
        _option(sp, command, "base")
        _option(sp, command, "check")
        add_census(sp, command)
        _option(sp, command, "--check-date", default=None, metavar="date")
        _option(sp, command, "--paths", type=int, default=paths)
        _option(sp, command, "--seed", type=int, default=0)
        _option(sp, command, "--out", default=out)
        sp.set_defaults(func=func)

    sp = _command(sub, "project")
    _option(sp, "project", "census", nargs="?", default=None)
    add_census(sp, "project")
    _option(sp, "project", "--until", required=True, metavar="date")
    _option(sp, "project", "--out", default="projection")
    sp.set_defaults(func=cmd_project)

    sp = _command(sub, "explain")
    _option(sp, "explain", "path", nargs="?", default=None)
    sp.set_defaults(func=cmd_explain)

    sp = _command(sub, "validate")
    _option(sp, "validate", "files", nargs="+")
    sp.set_defaults(func=cmd_validate)

    sp = _command(sub, "init")
    _option(sp, "init", "dir")
    _option(sp, "init", "--force", action="store_true")
    sp.set_defaults(func=cmd_init)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qzfp`` console script; returns the exit status."""
    parser = build_parser(_argv_lang(list(sys.argv[1:] if argv is None else argv)))
    args = parser.parse_args(argv)
    lang = _lang(args)
    try:
        env_lang = os.environ.get("QZFP_LANG") or None
        if env_lang is not None and getattr(args, "lang", None) is None and args.global_lang is None:
            from .i18n.catalogue import check_lang

            check_lang(env_lang, "QZFP_LANG")  # a language no command can speak is refused, not ignored
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
