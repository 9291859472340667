"""Text presentation shared by the console commands and the dashboard: formatters, call rate
and ETA, the transcript renderer and console tables. Rich renderables only (no Textual), and
every piece of model or file text goes through ``format.safe`` (shown literally)."""
