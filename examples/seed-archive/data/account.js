window.YTD.account.part0 = [
  {
    "account": {
      "email": "teamsaantstuur@example.org",
      "createdVia": "web",
      "username": "teamsaantstuur",
      "accountId": "2950915961",
      "createdAt": "2014-12-11T07:50:12.000Z",
      "accountDisplayName": "Teams aan het stuur!"
    }
  }
]
