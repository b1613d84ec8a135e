"""``spinewatch train``: coach mode, the hip-hinge progression drill by drill."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from spinewatch import argtypes as T

if TYPE_CHECKING:
    from spinewatch.coach.store import ProgressStore

# The programme for --help, kept here so that building the parser imports nothing heavy
# (a test checks it against posture.drills.PROGRAM).
DRILL_LIST = (
    ("cat-cow", 1, "Cat-cow"),
    ("dowel-hinge-kneeling", 1, "Dowel hinge, kneeling"),
    ("dowel-hinge-standing", 1, "Dowel hinge, standing"),
    ("hip-extension", 2, "Hip extension (45° bench)"),
    ("glute-bridge", 2, "Glute bridge"),
    ("box-squat", 2, "Box squat"),
    ("kettlebell-swing", 2, "Kettlebell swing"),
    ("plank", 3, "Plank"),
    ("side-plank-left", 3, "Side plank, left side down"),
    ("side-plank-right", 3, "Side plank, right side down"),
    ("pallof-press", 3, "Pallof press"),
    ("turn-with-hips", 4, "Turn with the hips"),
    ("deadlift", 4, "Deadlift / RDL"),
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lines = [f"  {n:22s} stage {stage}: {title}" for n, stage, title in DRILL_LIST]
    p = sub.add_parser(
        "train",
        help="coach mode: drills with live cues, pass/fail and progress (--simulate to try)",
        description="Coach the hip-hinge progression: (1) neutral spine, (2) glutes, (3) core, "
        "(4) the deadlift. Each drill has a short instruction, live cues (text, and a buzz on "
        "sensors that can), a rest timer, and a documented pass criterion that unlocks the "
        "next drill. Results are stored for 'spinewatch progress'.",
        epilog="drills, in programme order:\n" + "\n".join(lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--drill", metavar="NAME", help="one drill (see the list below)")
    p.add_argument(
        "--simulate",
        action="store_true",
        help="a simulated wearer does the whole programme (or --drill) on a simulated clock",
    )
    p.add_argument("--seed", type=T.seed, default=0, help="simulated wearer (default 0)")
    p.add_argument("--profile", help="calibration profile JSON (needed with real sensors)")
    p.add_argument(
        "--rest",
        type=T.float_in(0.0, 3600.0, "s"),
        default=60.0,
        help="rest between sets, 0–3600 s (default 60)",
    )
    p.add_argument(
        "--load",
        type=T.float_in(0.0, 500.0, "kg"),
        action="append",
        default=[],
        metavar="KG",
        help="load of each set, 0–500 kg",
    )
    p.add_argument("--no-save", action="store_true", help="do not store the results")
    p.add_argument(
        "--record",
        metavar="SESSION",
        help="also record a session (raw data; each set as a set, its verdict as a note)",
    )
    p.add_argument(
        "--gui", action="store_true", help="the Coach and Progress pages in a window (--simulate)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    from posture.drills import get_spec
    from posture.errors import CalibrationRequiredError, SpinewatchError
    from spinewatch.coach.store import ProgressStore

    if args.drill:
        get_spec(args.drill)  # unknown names: one line naming the drills

    if not 0.0 <= args.rest <= 600.0:
        raise SpinewatchError(f"--rest {args.rest:g} s is outside 0–600 s")
    store = None if args.no_save else ProgressStore()

    def say(line: str) -> None:
        print(line, flush=True)

    if args.gui:
        if not args.simulate:
            raise SpinewatchError("the coach window runs a simulated wearer so far: add --simulate")
        return _run_gui(args, store)
    record = None
    if args.record:
        from spinewatch.sessions.store import resolve

        record = str(resolve(args.record, must_exist=False))
        if os.path.exists(record):
            raise SpinewatchError(f"session {record} exists: choose another name")
        os.makedirs(os.path.dirname(record) or ".", exist_ok=True)
    if args.simulate:
        from spinewatch.coach.simulated import run_program

        ok = run_program(
            say,
            seed=args.seed,
            drills=[args.drill] if args.drill else None,
            store=store,
            rest_s=args.rest,
            record=record,
        )
        if store is not None:
            say(f"Results stored in {store.path}; see 'spinewatch progress'.")
        return 0 if ok else 1
    if not args.profile:
        raise CalibrationRequiredError(
            "coaching with sensors needs your calibration profile: run 'spinewatch calibrate' "
            "and pass --profile PROFILE.json (or try --simulate)"
        )
    from calibration import CalibrationProfile
    from posture.drills.program import next_drill
    from spinewatch.coach.live import run_live
    from spinewatch.sources import open_source

    profile = CalibrationProfile.load(args.profile)
    name = args.drill or next_drill(store.passed() if store else set())
    if name is None:
        say("The programme is complete: keep deadlifting ('spinewatch train --drill deadlift').")
        return 0
    ok = run_live(name, profile, open_source(False), say, store, list(args.load), rest_s=args.rest)
    return 0 if ok else 1


def _run_gui(args: argparse.Namespace, store: ProgressStore | None) -> int:
    from gui.app import check_display, qt_app

    check_display()
    from PySide6.QtCore import QTimer

    from gui.coach import CoachWindow
    from spinewatch.coach.gui_driver import CoachDriver

    app = qt_app()
    win = CoachWindow()
    win.show()
    drv = CoachDriver(
        win,
        seed=args.seed,
        drills=[args.drill] if args.drill else None,
        store=store,
        rest_s=args.rest,
    )
    timer = QTimer()

    def tick() -> None:
        if not drv.step(2):
            timer.stop()

    timer.timeout.connect(tick)
    timer.start(20)  # 0.5 s of simulated data every 20 ms: about 25× real time
    app.exec()
    return 0
