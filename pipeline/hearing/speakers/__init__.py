"""Who spoke when, from the audio alone: features.py (mel frames) -> encoder.py (a voice vector per
window) -> clustering.py (windows into speakers) -> diarize.py (speaker turns) -> assign.py (each
word to its speaker). der.py scores turns against a reference (diarization error rate).
"""
