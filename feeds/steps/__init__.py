"""The pipeline's steps, one job each (Traccar's handler chain):
decode+validate (feeds/decoding.py) -> dedupe -> enrich -> cases -> store -> publish (tick)."""
