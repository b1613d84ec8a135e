"""Coach mode: the programme (pass/fail per drill, what is unlocked), running drill sets with
live cues and rest timers, and the progress store with its trends over weeks."""
