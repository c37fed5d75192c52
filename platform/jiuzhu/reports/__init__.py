"""Reports: the county's supervision dashboard, statistics and their Excel export, roll imports."""
