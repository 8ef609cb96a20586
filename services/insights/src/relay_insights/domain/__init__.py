"""Insights' pure decisions: allocation, orders, rules and insight transitions."""
