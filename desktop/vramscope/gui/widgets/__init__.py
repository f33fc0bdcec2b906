"""Views: each shows part of the controller's state and reports what the user asked for."""
