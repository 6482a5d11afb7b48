"""The web workspace (`campaign web`): the communications team's calendar, previews, approvals and
history, served from the queue database. It imports campaign and archive; neither imports it."""
