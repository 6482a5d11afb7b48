window.YTD.tweets.part0 = [
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "559738783134683153"
          ],
          "editableUntil": "2015-01-26T15:45:00.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"https://twitter.com\" rel=\"nofollow\">Twitter Web Client</a>",
      "entities": {
        "hashtags": [
          {
            "text": "zelfstandigeteams",
            "indices": [
              "53",
              "71"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [
          {
            "name": "Gemeente Utrecht",
            "screen_name": "GemeenteUtrecht",
            "indices": [
              "72",
              "88"
            ],
            "id_str": "29223853",
            "id": "29223853"
          }
        ],
        "urls": [
          {
            "url": "https://t.co/RnqJ4pQbBb",
            "expanded_url": "https://publicpapersutrecht.nl/teams-aan-het-stuur/discussie",
            "display_url": "publicpapersutrecht.nl/tea…",
            "indices": [
              "101",
              "124"
            ]
          }
        ]
      },
      "display_text_range": [
        "0",
        "124"
      ],
      "favorite_count": "4",
      "id_str": "559738783134683153",
      "truncated": false,
      "retweet_count": "5",
      "id": "559738783134683153",
      "created_at": "Mon Jan 26 15:45:00 +0000 2015",
      "favorited": false,
      "full_text": "Interessante discussie over de (on)mogelijkheden van #zelfstandigeteams @GemeenteUtrecht. Praat mee! https://t.co/RnqJ4pQbBb",
      "lang": "nl"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "558202409579479057"
          ],
          "editableUntil": "2015-01-22T10:00:00.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"https://twitter.com\" rel=\"nofollow\">Twitter Web Client</a>",
      "entities": {
        "hashtags": [
          {
            "text": "zelfstandigeteams",
            "indices": [
              "56",
              "74"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [
          {
            "name": "Gemeente Utrecht",
            "screen_name": "GemeenteUtrecht",
            "indices": [
              "34",
              "50"
            ],
            "id_str": "29223853",
            "id": "29223853"
          }
        ],
        "urls": [
          {
            "url": "http://t.co/HkaCSetas2",
            "expanded_url": "http://publicpapersutrecht.nl/teams-aan-het-stuur/praat-mee",
            "display_url": "publicpapersutrecht.nl/tea…",
            "indices": [
              "103",
              "125"
            ]
          }
        ]
      },
      "display_text_range": [
        "0",
        "126"
      ],
      "favorite_count": "2",
      "id_str": "558202409579479057",
      "truncated": false,
      "retweet_count": "4",
      "id": "558202409579479057",
      "created_at": "Thu Jan 22 10:00:00 +0000 2015",
      "favorited": false,
      "full_text": "Komen er binnen vijf jaar ook bij @GemeenteUtrecht meer #zelfstandigeteams? Laat jouw mening horen via http://t.co/HkaCSetas2!",
      "lang": "nl"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "557511607710674961"
          ],
          "editableUntil": "2015-01-20T12:15:00.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"https://twitter.com\" rel=\"nofollow\">Twitter Web Client</a>",
      "entities": {
        "hashtags": [
          {
            "text": "Zelfstandigeteams",
            "indices": [
              "0",
              "18"
            ]
          },
          {
            "text": "utrecht",
            "indices": [
              "34",
              "42"
            ]
          },
          {
            "text": "management",
            "indices": [
              "127",
              "138"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [],
        "urls": [
          {
            "url": "http://t.co/pxnbnxf2EO",
            "expanded_url": "http://publicpapersutrecht.nl/teams-aan-het-stuur",
            "display_url": "publicpapersutrecht.nl/tea…",
            "indices": [
              "104",
              "126"
            ]
          }
        ]
      },
      "display_text_range": [
        "0",
        "138"
      ],
      "favorite_count": "3",
      "id_str": "557511607710674961",
      "truncated": false,
      "retweet_count": "2",
      "id": "557511607710674961",
      "created_at": "Tue Jan 20 12:15:00 +0000 2015",
      "favorited": false,
      "full_text": "#Zelfstandigeteams in de gemeente #utrecht een wilde droom of straks aan de orde van de dag? Praat mee: http://t.co/pxnbnxf2EO #management",
      "lang": "nl"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "557085046993870865"
          ],
          "editableUntil": "2015-01-19T08:00:00.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"https://twitter.com\" rel=\"nofollow\">Twitter Web Client</a>",
      "entities": {
        "hashtags": [
          {
            "text": "Zelfstandigeteams",
            "indices": [
              "0",
              "18"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "125"
      ],
      "favorite_count": "1",
      "id_str": "557085046993870865",
      "truncated": false,
      "retweet_count": "1",
      "id": "557085046993870865",
      "created_at": "Mon Jan 19 08:00:00 +0000 2015",
      "favorited": false,
      "full_text": "#Zelfstandigeteams in de gemeente Utrecht een wilde droom of straks aan de orde van de dag? Praat mee: publicpapersutrecht.nl",
      "lang": "nl"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "555802093286346769"
          ],
          "editableUntil": "2015-01-15T19:02:00.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"https://twitter.com\" rel=\"nofollow\">Twitter Web Client</a>",
      "entities": {
        "hashtags": [
          {
            "text": "Verander2015",
            "indices": [
              "58",
              "71"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [
          {
            "name": "Leo de Boer",
            "screen_name": "deboerleo",
            "indices": [
              "0",
              "10"
            ],
            "id_str": "61772845",
            "id": "61772845"
          }
        ],
        "urls": []
      },
      "display_text_range": [
        "0",
        "111"
      ],
      "favorite_count": "0",
      "id_str": "555802093286346769",
      "truncated": false,
      "retweet_count": "0",
      "id": "555802093286346769",
      "created_at": "Thu Jan 15 19:02:00 +0000 2015",
      "favorited": false,
      "full_text": "@deboerleo Hallo leo, hoe kom ik bij de case terecht? Via #Verander2015 kom ik er niet bij. Vriendelijke groet.",
      "lang": "nl",
      "in_reply_to_screen_name": "deboerleo",
      "in_reply_to_user_id": "61772845",
      "in_reply_to_user_id_str": "61772845",
      "in_reply_to_status_id": "554317713530671104",
      "in_reply_to_status_id_str": "554317713530671104"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "554570981176262673"
          ],
          "editableUntil": "2015-01-12T09:30:00.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"https://twitter.com\" rel=\"nofollow\">Twitter Web Client</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "128"
      ],
      "favorite_count": "2",
      "id_str": "554570981176262673",
      "truncated": false,
      "retweet_count": "3",
      "id": "554570981176262673",
      "created_at": "Mon Jan 12 09:30:00 +0000 2015",
      "favorited": false,
      "full_text": "Nog even en dan gaat de Public Paper 'Teams aan het stuur!' online. De HR-strategen nodigen iedereen uit om mee te discussiëren.",
      "lang": "nl"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "553194662261698577"
          ],
          "editableUntil": "2015-01-08T14:21:00.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"https://twitter.com\" rel=\"nofollow\">Twitter Web Client</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [
          {
            "name": "Monique den Boer",
            "screen_name": "moniquedenb",
            "indices": [
              "0",
              "12"
            ],
            "id_str": "148830195",
            "id": "148830195"
          }
        ],
        "urls": []
      },
      "display_text_range": [
        "0",
        "35"
      ],
      "favorite_count": "1",
      "id_str": "553194662261698577",
      "truncated": false,
      "retweet_count": "0",
      "id": "553194662261698577",
      "created_at": "Thu Jan 08 14:21:00 +0000 2015",
      "favorited": false,
      "full_text": "@moniquedenb Leuk dat je ons volgt!",
      "lang": "nl",
      "in_reply_to_screen_name": "moniquedenb",
      "in_reply_to_user_id": "148830195",
      "in_reply_to_user_id_str": "148830195"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "542968278021054481"
          ],
          "editableUntil": "2014-12-11T09:05:00.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "22"
      ],
      "favorite_count": "0",
      "id_str": "542968278021054481",
      "truncated": false,
      "retweet_count": "0",
      "id": "542968278021054481",
      "created_at": "Thu Dec 11 09:05:00 +0000 2014",
      "favorited": false,
      "full_text": "Buiten#stadskantoor030",
      "lang": "nl"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "542962238223290385"
          ],
          "editableUntil": "2014-12-11T08:41:00.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [
          {
            "text": "stadskantoor030",
            "indices": [
              "16",
              "32"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "32"
      ],
      "favorite_count": "1",
      "id_str": "542962238223290385",
      "truncated": false,
      "retweet_count": "0",
      "id": "542962238223290385",
      "created_at": "Thu Dec 11 08:41:00 +0000 2014",
      "favorited": false,
      "full_text": "Wij zijn op weg #stadskantoor030",
      "lang": "nl"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "542954940134326289"
          ],
          "editableUntil": "2014-12-11T08:12:00.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [
          {
            "text": "stadskantoor030",
            "indices": [
              "44",
              "60"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "60"
      ],
      "favorite_count": "0",
      "id_str": "542954940134326289",
      "truncated": false,
      "retweet_count": "0",
      "id": "542954940134326289",
      "created_at": "Thu Dec 11 08:12:00 +0000 2014",
      "favorited": false,
      "full_text": "Mijn eerste tweetje, net voor de ontruiming #stadskantoor030",
      "lang": "nl"
    }
  }
]
