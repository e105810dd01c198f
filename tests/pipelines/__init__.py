"""End-to-end pipelines with Meltano: sandbox -> tap -> warehouse -> target -> sandbox."""
