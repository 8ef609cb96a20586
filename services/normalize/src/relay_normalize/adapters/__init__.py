"""Normalize's adapters: what it reads from outside besides the feed itself."""
