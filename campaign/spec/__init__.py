"""posts.yaml → a validated plan: reading YAML with positions, the configuration model, schedules,
texts and lengths, and the expansion into concrete occurrences (the first step of the pipeline)."""
