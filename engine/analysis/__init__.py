"""Analysis of run directories: tidy tables (``load``), statistics (``stats``), aggregates,
A/B comparison, outcome evaluation and the HTML report. Never imports the dashboard."""
