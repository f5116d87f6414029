"""The HTTP room: the recording client (bounded, paced, origin-pinned), the masking of
secrets in every output, and the traffic as HAR. It knows nothing of chats or rules."""
