"""Everything that takes messages in: MQTT clients, decoders, the pipeline, the simulator.
Nothing here imports Dash."""
