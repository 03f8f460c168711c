"""CP-SAT shift rostering: the city model (`solve_roster`) and the benchmark NRP model."""
