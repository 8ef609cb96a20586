"""Channels: marketplace plugins (amazon, ebay, woot) that act on insights."""
