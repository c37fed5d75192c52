"""Cases: households and their members, applications, materials, findings, decisions, notices."""
