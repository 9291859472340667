"""Widgets of the dashboard. Each reads plain engine state; none holds a widget per row."""
