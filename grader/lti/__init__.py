"""The tool side of LTI 1.3 Advantage: keys, OIDC login and launch, platform registration, AGS access tokens."""
