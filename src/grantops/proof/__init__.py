"""Approval proof: whether each file on the branch got there through a valid review."""
