"""Where state lives: Redis for the hot, live state; SQL for history. Key and table schemas are
defined here once, and both the ingest side (feeds/) and the Dash side read them from here."""
