"""Recipes that build guest code written against generated SDKs (one module per language)."""
