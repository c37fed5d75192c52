"""Outreach visits (走访摸排) to households of the groups a plugin names as must-visit (景德镇: 必到必访九类人群),
on the county's schedule, with the overdue listed."""
