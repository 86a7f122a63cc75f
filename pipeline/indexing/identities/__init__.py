"""Speaker identities: the people heard across recordings (voices V1, V2, ...), the names and roles
users give them, and which of them each recording's speakers (S1, S2, ... from the diarizer in
hearing/speakers/) are. Kept in `<data dir>/voices.sqlite3`; `heard speakers` and the web page's
rename form change it (jobs/identities.py re-indexes what a change touched).

- database.py: the file, its tables, its transactions and faults;
- clustering.py: the rule that joins speakers of different recordings into one voice (pure);
- observe.py: speakers copied from transcripts, matched and re-clustered into voices;
- decisions.py: a user's name, merge and split, pinned so they outlive re-clustering;
- lookups.py, listing.py: reading voices and the names and roles they give a recording;
- indexed.py: which names and roles each recording's chunks carry, to find what a change touched;
- book.py: VoiceBook, the one handle on all of it.
"""

from pipeline.indexing.identities.book import VoiceBook
from pipeline.indexing.identities.database import VOICES_NAME, voices_path
from pipeline.indexing.identities.listing import Heard, VoiceListing
from pipeline.indexing.identities.model import Identity, Voice

__all__ = ["VOICES_NAME", "Heard", "Identity", "Voice", "VoiceBook", "VoiceListing", "voices_path"]
