"""Sending what the queue says is due: the dispatcher, the long-running server, and one module
per platform behind one protocol (step three)."""
