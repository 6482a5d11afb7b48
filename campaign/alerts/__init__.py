"""Telling a person what needs them, from the queue's state: notification events and delivery."""
