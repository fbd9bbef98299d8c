"""The seed blog post's own approach, kept runnable so every figure has a fair baseline."""
