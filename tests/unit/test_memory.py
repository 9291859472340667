from engine.llm.embedding import hash_embed
from engine.sim.memory import MemoryItem, MemoryStore, emotion_similarity


def _item(text: str, emotions: tuple[float, ...]) -> MemoryItem:
    return MemoryItem(text=text, kind="action", emotions=emotions, embedding=hash_embed(text))


def test_similar_emotions_score_higher_for_the_same_topic() -> None:
    calm = (0.8, 0.7, 0.0, 0.1, 0.0, 0.0, 0.0, 0.3)
    upset = (0.0, 0.0, 0.8, 0.3, 0.7, 0.2, 0.9, 0.1)
    store = MemoryStore()
    store.add(_item("we argued about moving to another city", upset))
    store.add(_item("we talked about moving to another city", calm))
    query = hash_embed("moving to another city")
    assert store.retrieve(query, upset, k=1)[0].emotions == upset
    assert store.retrieve(query, calm, k=1)[0].emotions == calm


def test_semantic_similarity_still_matters() -> None:
    neutral = (0.2,) * 8
    store = MemoryStore()
    store.add(_item("her sister's wedding in June", neutral))
    store.add(_item("the broken dishwasher", neutral))
    assert store.retrieve(hash_embed("the wedding"), neutral, k=1)[0].text.startswith("her sister")


def test_emotion_similarity_bounds() -> None:
    assert emotion_similarity((0.5,) * 8, (0.5,) * 8) == 1.0
    assert emotion_similarity((0.0,) * 8, (1.0,) * 8) == 0.0


def test_capacity_forgets_working_memory_before_identity() -> None:
    store = MemoryStore(capacity=3)
    store.add(MemoryItem("who I am", "identity"))
    for i in range(5):
        store.add(MemoryItem(f"event {i}", "action"))
    assert [m.text for m in store.items] == ["who I am", "event 3", "event 4"]


def test_items_with_the_same_text_and_vector_share_one_embedding() -> None:
    from engine.sim.memory import attach_embeddings

    text = "the night we missed the last train home"
    first, second = MemoryItem(text, "identity"), MemoryItem(text, "identity")
    other_model = MemoryItem(text, "identity")
    vector = hash_embed(text)
    attach_embeddings([first], [vector])
    attach_embeddings([second], [list(vector)])
    assert second.embedding is first.embedding
    # Another endpoint's vector for the same text is kept as it is, not replaced.
    attach_embeddings([other_model], [[v * 0.5 for v in vector]])
    assert other_model.embedding is not first.embedding
    assert list(other_model.embedding or []) == [v * 0.5 for v in vector]
    assert list(first.embedding or []) == vector


def test_packed_emotions_keep_their_exact_values_and_scores() -> None:
    from engine.sim.memory import pack_emotions

    upset = (0.0, 0.05, 0.8, 0.3, 0.7, 0.2, 0.9, 0.1)
    packed = pack_emotions(upset)
    assert tuple(packed) == upset
    for query in ((0.2,) * 8, (0.8, 0.7, 0.0, 0.1, 0.0, 0.0, 0.0, 0.3)):
        assert emotion_similarity(query, packed) == emotion_similarity(query, upset)
