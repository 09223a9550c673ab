"""Screen models: what each screen shows, built once for every client (the wall's board today;
the dispatch desk and the briefing reuse its names, lights and counts)."""
