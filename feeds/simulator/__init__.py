"""The demo-city simulator behind `gridwall simulate`.

Pure model (no I/O): clock, catalogue, departments, areas, roadnet, collectors, vehicles,
alerts, cases, world. Impure edge: runner (paho, real time, state file) and cli.
"""
