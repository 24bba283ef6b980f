"""Enterprises, departments, employees and resumption of work (复工复产)."""
