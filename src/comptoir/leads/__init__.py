"""Leads: contact requests captured from the shop's site, listed and exported by admins."""
