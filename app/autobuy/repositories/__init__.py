"""Persistence behind interfaces: MySQL (users, billing, tokens) and DynamoDB (items)."""
