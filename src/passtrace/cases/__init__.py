"""Cases: confirmed, suspected and asymptomatic infections and their exposure windows."""
