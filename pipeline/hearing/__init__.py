"""Hearing a recording: decode any container to 16 kHz mono (audio.py), Whisper with word timestamps
(transcribe.py; weights.py finds offline weights, convert.py makes openai-whisper checkpoints), and who
spoke when (speakers/: features, encoder, clustering, diarize, assign, der).

In: a Recording. Out: a Transcript whose segments carry words and speaker labels (S1, S2, ...).
"""
