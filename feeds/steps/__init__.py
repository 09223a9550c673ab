"""The pipeline's steps, one job each, run in the order feeds/pipeline.py declares them (as
Traccar's handler chain): decode+validate -> dedupe -> enrich -> cases -> store -> park, each
behind one interface (feeds/steps/batch.py: ``run(batch)``); the publish tick follows per tick,
not per batch."""
