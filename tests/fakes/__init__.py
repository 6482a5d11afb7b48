"""Loopback fake servers for X, Mastodon and Bluesky (see base.py for the fault API)."""
