"""The demo-city simulator behind `gridwall simulate`.

Pure model (no I/O): clock, problem_mix, departments, areas, roadnet, collectors, vehicles,
camera_alerts, case_plans, world. Impure edge: runner (paho, real time, state file) and command.
Time limits and the working calendar are not the simulator's: it takes the casework domain's
Rules (dashboard.casework, loaded by dashboard.casedata).

The demo misbehaves as the supervision is written to catch (misbehaviour: trucks off route or
stopped on the road, a speeder, a vehicle gone dark, collectors out of their grids or still),
against the city directory's zones, routes and 责任网格 that supervision_files makes
(docs/supervision.md "The demo city").
"""
