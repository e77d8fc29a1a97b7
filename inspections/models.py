"""Assessment campaigns, samples, findings and rectification (第三方评估, 督查整改)."""
