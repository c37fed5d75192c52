"""Personal information: who looked at whose (the PIPL access log), and the alert on unusual volume."""
