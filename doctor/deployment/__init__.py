"""The deployment being judged: its profile, the serve command it comes from, the launch."""
