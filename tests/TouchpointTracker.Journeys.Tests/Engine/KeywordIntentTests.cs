using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Signals;

namespace TouchpointTracker.Journeys.Tests.Engine;

/// <summary>Search keyword intent with the default word lists, in English and French.</summary>
public sealed class KeywordIntentTests
{
    private static readonly KeywordIntentClassifier Classifier = StageEngine.CreateDefault().Keywords;

    [TestCase("how to track marketing campaigns", KeywordIntent.Informational)]
    [TestCase("What is a customer journey?", KeywordIntent.Informational)]
    [TestCase("best crm software 2026", KeywordIntent.Commercial)]
    [TestCase("hubspot vs salesforce", KeywordIntent.Commercial)]
    [TestCase("crm pricing", KeywordIntent.Transactional)]
    [TestCase("buy running shoes", KeywordIntent.Transactional)]
    [TestCase("Touchpoint Tracker", KeywordIntent.None)] // brand terms are per site (BrandTermsTests), not the product's own name
    [TestCase("touchpointtracker pricing", KeywordIntent.Transactional)]
    [TestCase("Qu'est-ce qu'un parcours client ?", KeywordIntent.Informational)]
    [TestCase("comment choisir un CRM", KeywordIntent.Informational)]
    [TestCase("pourquoi mesurer l'attribution", KeywordIntent.Informational)]
    [TestCase("comparatif logiciel CRM", KeywordIntent.Commercial)]
    [TestCase("meilleur outil d'attribution avis", KeywordIntent.Commercial)]
    [TestCase("prix logiciel crm", KeywordIntent.Commercial | KeywordIntent.Transactional)]
    [TestCase("demande de démo", KeywordIntent.Transactional)]
    [TestCase("ESSAI GRATUIT", KeywordIntent.Transactional)]
    [TestCase("tarifs", KeywordIntent.Transactional)]
    [TestCase("chaussures de course", KeywordIntent.None)]
    [TestCase("", KeywordIntent.None)]
    public void Classifies_the_keyword(string keyword, KeywordIntent expected) =>
        Assert.That(Classifier.Classify(keyword), Is.EqualTo(expected));

    [Test]
    public void Matches_whole_words_only() =>
        Assert.That(Classifier.Classify("whyte bikes topsoil"), Is.EqualTo(KeywordIntent.None), "'why' and 'top' are not in 'whyte' or 'topsoil'");

    [TestCase("Démo", "demo")]
    [TestCase("qu'est-ce   que", "qu est ce que")]
    [TestCase("Œuvre — Ça", "oeuvre ca")]
    public void Folds_case_accents_and_punctuation(string text, string folded) =>
        Assert.That(TextFolding.Fold(text), Is.EqualTo(folded));
}
