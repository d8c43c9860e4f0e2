# Generated videos are recorded as Task results and history rows (monitoring); no model of their own.
