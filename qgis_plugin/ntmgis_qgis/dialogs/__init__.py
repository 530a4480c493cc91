"""Dialogs of the NTM GIS plugin."""
