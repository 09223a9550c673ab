"""The demo-city simulator behind `gridwall simulate`.

Pure model (no I/O): clock, problem_mix, departments, areas, roadnet, collectors, vehicles,
camera_alerts, case_plans, world. Impure edge: runner (paho, real time, state file) and command.
Time limits and the working calendar are not the simulator's: it takes the casework domain's
Rules (dashboard.casework, loaded by dashboard.casedata).
"""
