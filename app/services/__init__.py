"""Verbs that own transactions: load rows, ask the domain, write, commit."""
