"""The county's year: the models of its rollover and its year-end sign-off (issue 16)."""
