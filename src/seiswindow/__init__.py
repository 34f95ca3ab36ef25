"""seiswindow."""
