"""Praat mee's campaign side: posts.yaml, planning, the queue, dispatch and platforms."""
