"""A compact English stopword list (function words that say nothing about what a claim asserts)."""

from __future__ import annotations

__all__ = ["STOPWORDS"]

STOPWORDS: frozenset[str] = frozenset(
    (
        "a", "about", "above", "after", "again", "against", "all", "almost", "also", "although", "am", "among",
        "an", "and", "another", "any", "are", "around", "as", "at", "be", "became", "because", "become",
        "becomes", "been", "before", "being", "below", "between", "both", "but", "by", "can", "cannot",
        "could", "did", "do", "does", "doing", "done", "down", "during", "each", "either", "else", "ever",
        "every", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers",
        "herself", "him", "himself", "his", "how", "however", "i", "if", "in", "into", "is", "it", "its",
        "itself", "just", "least", "less", "let", "like", "many", "may", "me", "might", "more", "most", "much",
        "must", "my", "myself", "neither", "no", "nor", "not", "now", "of", "off", "often", "on", "once",
        "one", "only", "onto", "or", "other", "others", "otherwise", "our", "ours", "ourselves", "out", "over",
        "own", "per", "perhaps", "quite", "rather", "really", "same", "several", "shall", "she", "should",
        "since", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then",
        "there", "these", "they", "this", "those", "though", "through", "thus", "to", "too", "toward",
        "towards", "under", "until", "up", "upon", "us", "very", "via", "was", "we", "well", "were", "what",
        "whatever", "when", "where", "whether", "which", "while", "who", "whom", "whose", "why", "will",
        "with", "within", "without", "would", "yet", "you", "your", "yours", "yourself", "yourselves", "yes",
        "'s", "s", "t", "d", "ll", "m", "re", "ve",
    )
)
