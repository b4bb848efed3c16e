"""solving: a built model handed to HiGHS (or another Pyomo solver) with options and limits; the staged solve; Ctrl-C."""
